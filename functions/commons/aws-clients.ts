import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { tracer } from './powertools';

// Created once per cold start; traced so each call shows in X-Ray. Endpoints follow the SDK's standard
// environment (AWS_ENDPOINT_URL_DYNAMODB etc.), which is also how the tests reach dynalite.
export const dynamoDb = DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient({})), {
  marshallOptions: { removeUndefinedValues: true },
});
export const sqs = tracer.captureAWSv3Client(new SQSClient({}));
