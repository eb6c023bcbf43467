"""Images in: untrusted bytes -> checked images; data sets and their decoded cache; augmentation."""
