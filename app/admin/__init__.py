"""Staff administration: staff users, shop API keys and webhooks, shop settings, carrier credentials,
shops' message texts and the admins' second factor. Plain functions; views commit."""
