"""planner: declarative, reviewable change plans for Virtuous CRM+ Contacts."""

__version__ = "0.1.0"
