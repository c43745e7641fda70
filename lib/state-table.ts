import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import {
  DUE_INDEX,
  DUE_INDEX_PARTITION_KEY,
  DUE_INDEX_PROJECTED,
  DUE_INDEX_SORT_KEY,
  PARTITION_KEY,
  SORT_KEY,
  STATUS_INDEX,
  STATUS_INDEX_PARTITION_KEY,
  STATUS_INDEX_SORT_KEY,
  TTL_ATTRIBUTE,
} from '../functions/core/adapters/dynamodb/table-schema';

export interface StateTableProps {
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The one DynamoDB table of events, step ledger and per-employee high-water marks. The key design is the
 * code's (`table-schema.ts`), imported rather than repeated, so the table cannot drift from the adapter.
 */
export class StateTable extends Construct {
  readonly table: Table;
  /** The ARN of the `byStatus` index, for policies that query it. */
  readonly statusIndexArn: string;
  /** The ARN of the `byDueTime` index (effective dates), for the worker's sweep and the ingest's cancels. */
  readonly dueIndexArn: string;

  constructor(scope: Construct, id: string, props: StateTableProps) {
    super(scope, id);

    const retained = props.removalPolicy === RemovalPolicy.RETAIN;
    this.table = new Table(this, 'Table', {
      partitionKey: { name: PARTITION_KEY, type: AttributeType.STRING },
      sortKey: { name: SORT_KEY, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      encryption: TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: TTL_ATTRIBUTE,
      removalPolicy: props.removalPolicy,
      // A retained table is one somebody means to keep: protect it from a stray delete as well.
      deletionProtection: retained,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: STATUS_INDEX,
      partitionKey: { name: STATUS_INDEX_PARTITION_KEY, type: AttributeType.STRING },
      sortKey: { name: STATUS_INDEX_SORT_KEY, type: AttributeType.STRING },
      projectionType: ProjectionType.KEYS_ONLY,
    });
    this.statusIndexArn = `${this.table.tableArn}/index/${STATUS_INDEX}`;
    this.table.addGlobalSecondaryIndex({
      indexName: DUE_INDEX,
      partitionKey: { name: DUE_INDEX_PARTITION_KEY, type: AttributeType.STRING },
      sortKey: { name: DUE_INDEX_SORT_KEY, type: AttributeType.STRING },
      projectionType: ProjectionType.INCLUDE,
      nonKeyAttributes: DUE_INDEX_PROJECTED,
    });
    this.dueIndexArn = `${this.table.tableArn}/index/${DUE_INDEX}`;
  }
}
