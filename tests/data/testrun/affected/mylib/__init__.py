"""A small library whose tests exercise every kind of dependency selection tracks."""
