"""The credit rules as data: catalogue, rating model, measures, listings, review, letters."""
