"""Version control for proposals: a local git clone, the stack config files in it, and GitHub pull requests."""
