"""Exchange with the outside: Celery tasks and beat, signed webhooks, pulled lists, onboarding."""
