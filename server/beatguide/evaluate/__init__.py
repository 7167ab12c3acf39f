"""The paper's evaluations (Table 1, Table 2, Figure 3) and the measures they leave out."""
