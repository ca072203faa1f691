"""Business workflows, one module each. They speak canonical models and connector actions only."""
