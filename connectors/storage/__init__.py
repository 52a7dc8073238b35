"""Where uploaded files live: archive files and evidence, by key, on a filesystem or in an
S3-compatible object store, the same for every API process and worker."""
