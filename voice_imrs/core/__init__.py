"""The pure core: script model, intents and the next-step decision. No I/O in here."""
