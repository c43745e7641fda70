import { describe, expect, it } from 'vitest';
import { ingestRouteAccess } from '../../functions/core/ingest/ingest-app';
import { INGEST_ROUTES } from '../../lib/ingest-api';

/** A concrete path for an API Gateway resource path: `/events/{id}` → `/events/x`. */
const concrete = (path: string) => path.replace(/\{[^}]+\}/g, 'x');

/*
 * The ingest app honours API Gateway's IAM identity on its `operator` routes only (authenticate.ts), so
 * those must be exactly the routes API Gateway guards with IAM: an operator route open at the gateway would
 * answer anyone the token check lets through, and an IAM route of another kind would ignore the identity
 * API Gateway checked and refuse the operator.
 */
describe('route auth kinds agree with the API Gateway routes', () => {
  it.each(INGEST_ROUTES.map((route) => [route.method, route.path, route.iam] as const))(
    '%s %s (IAM: %s)',
    (method, path, iam) => {
      const access = ingestRouteAccess(method, concrete(path));
      expect(access, `${method} ${path} is not in the ingest app's route table`).toBeDefined();
      expect(access?.auth === 'operator').toBe(iam);
    },
  );
});
