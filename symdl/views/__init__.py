"""Drawings of a model: the IR and the compiled PyTensor graph as graphviz digraphs.

Only the CLI imports this package; the IR and the passes know nothing of graphviz.
"""
