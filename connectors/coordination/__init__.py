"""What the hub's processes share through Redis to act as one: locks, the cache generation,
each caller's bookmarks, and the write pause of a backup."""
