"""Risk: the prediction model in use, re-scoring shipments, retraining on our history, the at-risk queue."""
