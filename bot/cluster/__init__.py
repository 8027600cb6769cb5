"""Several replicas of the bot on one PostgreSQL database.

Each inbound event is stored by the replica that took it in (:mod:`bot.cluster.inbox`) and
becomes a job in procrastinate's queue with the person's lock, so one person's events are
handled one after the other, by whichever worker is free. A turn's replies become delivery
jobs with the chat's lock, deferred in the turn's own transaction. Timers are periodic jobs
that run once across replicas; the Matrix sync runs on the one replica holding a lease.
"""
