"""Beat Guide runtime: gestures -> encoders -> latents -> decoder -> notes, served over OSC.

numpy + onnxruntime only; never imports torch.
"""

__version__ = "0.1.0"
