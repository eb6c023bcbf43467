"""CIFAR-10's name, classes and channel statistics: the constants the whole project shares.

Plain Python (no torch), so settings, the job queue and the CLI can name the data set cheaply.
"""

CIFAR10 = "cifar10"  # the data spec that means torchvision's CIFAR-10
CIFAR10_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
# Per-channel mean and std of the training images: every input is normalised with them.
CIFAR_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR_STD = (0.2023, 0.1994, 0.2010)
IMAGE_SIZE = 32


def is_cifar10(spec: str) -> bool:
    return str(spec).strip().lower() == CIFAR10
