"""Neural network models and their safe checkpoints.

Modules
-------
:mod:`wiloc_core.models.ctf_cnn`
    The CTF regression CNN of AlHajri et al. (paper 000, Fig. 2).
:mod:`wiloc_core.models.checkpoint`
    ``torch.save``/``torch.load(weights_only=True)`` with an architecture name and
    configuration stored beside the weights, shared by every model of the book.

Importing this package does not import torch; import the submodules you need.
"""
