"""The CrossGuard policy pack: the stack's invariants, enforced by `pulumi preview --policy-pack infra/policy`."""
