"""testrun: resource-aware parallel test execution scheduled from remembered durations.

Kept free of imports so that the pytest worker plugin (which runs inside the
project's own interpreter) can import `catalytic.plugins.testrun.pytest_worker`
cheaply.
"""
