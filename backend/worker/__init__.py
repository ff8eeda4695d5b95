"""The job worker: procrastinate tasks (retraining runs, the built-in schedule, recovery
of jobs a crashed worker left). It is the one part of the service that loads the training
library; ``python -m deploy.worker`` starts it."""
