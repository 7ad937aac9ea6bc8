"""Offline evaluation of the Pulumi program: render manifests, build the system map."""
