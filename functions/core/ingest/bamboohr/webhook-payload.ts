import { z } from 'zod';
import { issuesOf, ValidationError } from '../../events/validation-issues';

export const BAMBOOHR_ACTIONS = ['Created', 'Updated', 'Deleted'] as const;
export type BambooHrAction = (typeof BAMBOOHR_ACTIONS)[number];

// BambooHR sends ids and values as strings; numbers are accepted so a hand-written test payload works too.
const idText = z
  .union([z.string(), z.number()])
  .transform((v) => String(v).trim())
  .pipe(z.string().min(1, { error: 'must not be empty' }));
// A field that has no value may arrive as null; it means the same as leaving the field out.
const fieldValues = z
  .record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]))
  .transform((fields) => {
    const strings: Record<string, string> = {};
    for (const [label, value] of Object.entries(fields)) if (value !== null) strings[label] = String(value);
    return strings;
  });

// Loose objects: BambooHR may add keys to its payload, and unknown keys should not reject a delivery.
const entrySchema = z.object({
  id: idText,
  action: z.enum(BAMBOOHR_ACTIONS, { error: `must be one of ${BAMBOOHR_ACTIONS.join(', ')}` }),
  timestamp: z.string().optional(),
  changedFields: z.array(z.string()).default([]),
  fields: fieldValues.default({}),
});

const payloadSchema = z.object({ employees: z.array(entrySchema) });

/** One employee entry of a global webhook delivery, with `fields` keyed by label and values as strings. */
export type BambooHrWebhookEntry = z.output<typeof entrySchema>;
export type BambooHrWebhookPayload = z.output<typeof payloadSchema>;

/** Checks the shape of a global webhook body; throws a ValidationError naming each wrong path. */
export function parseBambooHrWebhookPayload(payload: unknown): BambooHrWebhookPayload {
  const result = payloadSchema.safeParse(payload, { reportInput: true });
  if (!result.success) throw new ValidationError(issuesOf(result.error), 'invalid BambooHR webhook payload');
  return result.data;
}
