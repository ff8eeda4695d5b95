"""Records every feature shares: the dialog log a question leaves, and the queue that commits
what residents teach (ratings, corrections, signals) in batches from one thread."""
