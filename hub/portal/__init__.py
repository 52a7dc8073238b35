"""The public portal: server-rendered pages in Chinese for anyone, without a login."""
