"""The yardstick: the reference recipe exactly as the course runs it.

torchvision transforms on PIL images, one sample at a time, in a DataLoader (batch 64, the
main process), the reference model in float32. Same split and recipe as `python -m seattn train`,
so bench/train_throughput.py can compare the two fairly. Prints one JSON object on stdout.

    python -m bench.reference_pipeline --data FOLDER --epochs 2 [--limit N] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import time

import torch
from torch import nn
from torch.utils.data import DataLoader, Subset
from torchvision import datasets, transforms

from seattn.data.cifar10 import CIFAR_MEAN, CIFAR_STD
from seattn.data.datasets import validation_split
from seattn.model.cnn import SECNN

TRAIN_TRANSFORM = transforms.Compose(
    [
        transforms.RandomCrop(32, padding=4),
        transforms.RandomHorizontalFlip(),
        transforms.ColorJitter(brightness=0.2, contrast=0.2, saturation=0.2, hue=0.1),
        transforms.RandomRotation(15),
        transforms.ToTensor(),
        transforms.Normalize(CIFAR_MEAN, CIFAR_STD),
    ]
)
EVAL_TRANSFORM = transforms.Compose(
    [transforms.ToTensor(), transforms.Normalize(CIFAR_MEAN, CIFAR_STD)]
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", required=True)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    train_folder = datasets.ImageFolder(args.data, transform=TRAIN_TRANSFORM)
    eval_folder = datasets.ImageFolder(args.data, transform=EVAL_TRANSFORM)
    indices = torch.arange(len(train_folder))
    if args.limit is not None:
        generator = torch.Generator().manual_seed(0)
        indices = torch.randperm(len(train_folder), generator=generator)[: args.limit].sort().values
    train_idx, val_idx = validation_split(len(indices), 0.1, seed=0)
    train_set = Subset(train_folder, indices[train_idx].tolist())
    val_set = Subset(eval_folder, indices[val_idx].tolist())
    train_loader = DataLoader(train_set, batch_size=64, shuffle=True)
    val_loader = DataLoader(val_set, batch_size=64)

    model = SECNN(16)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, mode="min", patience=3, factor=0.5
    )
    criterion = nn.CrossEntropyLoss()
    epochs = []
    for epoch in range(1, args.epochs + 1):
        started = time.perf_counter()
        model.train()
        for images, labels in train_loader:
            optimizer.zero_grad()
            loss = criterion(model(images), labels)
            loss.backward()
            optimizer.step()
        model.eval()
        total_loss, correct = 0.0, 0
        with torch.no_grad():
            for images, labels in val_loader:
                logits = model(images)
                total_loss += criterion(logits, labels).item() * len(labels)
                correct += (logits.argmax(1) == labels).sum().item()
        val_loss = total_loss / len(val_set)
        scheduler.step(val_loss)
        seconds = time.perf_counter() - started
        epochs.append(
            {
                "epoch": epoch,
                "val_loss": val_loss,
                "val_accuracy": correct / len(val_set),
                "epoch_seconds": seconds,
                "images_per_second": len(train_set) / seconds,
            }
        )
        print(json.dumps(epochs[-1]), flush=True, file=__import__("sys").stderr)
    print(
        json.dumps({"train_images": len(train_set), "val_images": len(val_set), "epochs": epochs})
    )


if __name__ == "__main__":
    main()
