"""Archive files units upload: reading them, validating each row, writing them in batches."""
