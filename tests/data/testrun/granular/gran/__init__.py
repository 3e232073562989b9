"""A library whose tests show how finely class bodies and signatures are tracked."""
