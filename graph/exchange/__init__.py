"""What partners receive: the outbox and its deliveries, the feed, partners, pulled lists."""
