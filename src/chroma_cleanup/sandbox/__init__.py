"""A local AWS (moto's server on 127.0.0.1) seeded with an environment laid out like the real one."""
