"""Running sessions: the audio loop around the engine, simulation, the demo."""
