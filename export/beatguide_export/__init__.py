"""Beat Guide training side (PyTorch): model definitions, training and ONNX export."""
