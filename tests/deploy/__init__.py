"""The deployment run for real: ``integritas serve`` processes on free loopback ports over one
database, behind Debian's nginx with the shipped site configuration (``deploy/``)."""
