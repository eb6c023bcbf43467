"""seattn: see what Squeeze-and-Excitation channel attention does inside a small CIFAR-10 CNN."""

__version__ = "0.1.0"
