"""Speech in: recognizers behind one interface, voice activity, and intents from words."""
