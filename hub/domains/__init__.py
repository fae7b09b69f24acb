"""Business domains: YAML files → validated, inherited, hot-reloaded configuration."""
