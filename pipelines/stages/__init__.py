"""The pipeline stages, each one function run the same by `tradeops pipeline STAGE` locally and in CI."""
