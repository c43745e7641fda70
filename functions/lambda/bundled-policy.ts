import { compilePolicy, type Policy } from '../core/policy/policy';
import { assertMappingWithin, parseEffectivePolicy } from '../core/policy/policy-file';
import type { RoleMapping } from '../core/roles/role-mapping';

/*
 * Synth resolves the policy (the file, or the defaults from the role mapping), checks the mapping against it
 * and inlines the result into both bundles with esbuild's `define` on `process.env.POLICY_JSON`; the callers
 * write that expression out literally, since the define replaces exactly it. Source run without a bundle (the
 * handler tests) has no such value, and then no policy.
 */

/** The policy the stack bundled into the ingest λ; none when run unbundled. */
export function bundledIngestPolicy(json: string | undefined): Policy | undefined {
  return json ? compilePolicy(parseEffectivePolicy(JSON.parse(json))) : undefined;
}

/**
 * The policy the stack bundled into the worker, checked at cold start against the role mapping bundled
 * beside it: synth checked the two together already, and a bundle made some other way gets the same check.
 */
export function bundledWorkerPolicy(json: string | undefined, mapping: RoleMapping): Policy | undefined {
  if (!json) return undefined;
  const effective = parseEffectivePolicy(JSON.parse(json));
  assertMappingWithin(mapping, effective.allowedRoles, 'the bundled policy');
  return compilePolicy(effective);
}
