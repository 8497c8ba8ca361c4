"""One spelling for each computation, so the later phases have fewer forms to recognise."""

from __future__ import annotations

from symdl.passes.registry import rule

rule("pow_two_to_sqr", "canonicalize", ("pow", "x", 2), ("sqr", "x"))
rule("neg_neg_to_x", "canonicalize", ("neg", ("neg", "x")), "x")
rule("sub_neg_to_add", "canonicalize", ("sub", "x", ("neg", "y")), ("add", "x", "y"))
rule("exp_log_to_x", "canonicalize", ("exp", ("log", "x")), "x")
