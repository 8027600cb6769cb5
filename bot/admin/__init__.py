"""The `weerbaar` admin command line for the people who run the support network."""
