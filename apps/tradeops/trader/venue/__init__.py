"""Trading at a real venue: the ccxt broker, reconciliation with the ledger, and the kill switch there."""
