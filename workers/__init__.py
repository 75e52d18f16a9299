"""RQ jobs: load rows by id, call a feature, save.

schedule.py lists the periodic ones; enqueue.py is the one door the web app uses to hand work over.
"""
