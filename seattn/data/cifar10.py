"""CIFAR-10's name, classes and channel statistics: the constants the whole project shares.

Plain Python (no torch), so settings, the job queue and the CLI can name the data set cheaply.
"""

from seattn.i18n import N_, _

CIFAR10 = "cifar10"  # the data spec that means torchvision's CIFAR-10
CIFAR10_CLASSES = (  # the label ids' names, as data and checkpoints store them
    N_("airplane"),
    N_("automobile"),
    N_("bird"),
    N_("cat"),
    N_("deer"),
    N_("dog"),
    N_("frog"),
    N_("horse"),
    N_("ship"),
    N_("truck"),
)
# Per-channel mean and std of the training images: every input is normalised with them.
CIFAR_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR_STD = (0.2023, 0.1994, 0.2010)
IMAGE_SIZE = 32


def is_cifar10(spec: str) -> bool:
    return str(spec).strip().lower() == CIFAR10


def class_label(name: str) -> str:
    """A class name as the interface shows it: CIFAR-10's ten in the active language, any other
    (a folder's own class names) as it is, since a folder's "Home" is no page's title."""
    return _(name) if name in CIFAR10_CLASSES else name
