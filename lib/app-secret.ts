import { type RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { type IKey, Key } from 'aws-cdk-lib/aws-kms';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

export interface AppSecretProps {
  readonly description: string;
  /** Use this existing secret instead of creating one. */
  readonly existingSecretArn?: string;
  /** The customer managed key of the existing secret, so readers are also granted kms:Decrypt on it. */
  readonly existingSecretKmsKeyArn?: string;
  /**
   * The created secret's non-secret placeholder fields; `generateKey` is added with a random value by
   * Secrets Manager at deploy time, so no secret value is ever in the template.
   */
  readonly placeholder: Record<string, string>;
  readonly generateKey: string;
  readonly removalPolicy: RemovalPolicy;
  /** Why this secret is not rotated automatically (for the nag acknowledgment). */
  readonly noRotationReason: string;
}

// A secret ARN ends in `-` and the six characters Secrets Manager appends to the name.
const COMPLETE_ARN = /-[A-Za-z0-9]{6}$/;

/** A JSON secret of the application: created with a placeholder to fill in, or imported by ARN. */
export class AppSecret extends Construct {
  readonly secret: ISecret;
  /** The ARN to name in policies: exact for a created or completely named secret. */
  readonly policyArn: string;
  private readonly encryptionKey: IKey | undefined;

  constructor(scope: Construct, id: string, props: AppSecretProps) {
    super(scope, id);

    if (props.existingSecretArn) {
      const arn = props.existingSecretArn;
      this.encryptionKey = props.existingSecretKmsKeyArn
        ? Key.fromKeyArn(this, 'Key', props.existingSecretKmsKeyArn)
        : undefined;
      const complete = COMPLETE_ARN.test(arn);
      this.secret = Secret.fromSecretAttributes(this, 'Secret', {
        ...(complete ? { secretCompleteArn: arn } : { secretPartialArn: arn }),
        ...(this.encryptionKey ? { encryptionKey: this.encryptionKey } : {}),
      });
      // A partial ARN (the name only) matches the secret through the six-character suffix.
      this.policyArn = complete ? arn : `${arn}-??????`;
      return;
    }

    const secret = new Secret(this, 'Secret', {
      description: props.description,
      generateSecretString: {
        secretStringTemplate: JSON.stringify(props.placeholder),
        generateStringKey: props.generateKey,
        excludePunctuation: true,
        passwordLength: 40,
      },
      removalPolicy: props.removalPolicy,
    });
    Validations.of(secret).acknowledge({ id: 'AwsSolutions-SMG4', reason: props.noRotationReason });
    this.secret = secret;
    this.policyArn = secret.secretArn;
    this.encryptionKey = undefined;
  }

  /**
   * Lets the grantee read the secret's value, and nothing else: no DescribeSecret, no other secret. With a
   * customer managed key, also kms:Decrypt on that key, only through Secrets Manager.
   */
  grantGetSecretValue(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [this.policyArn] }),
    );
    if (this.policyArn.endsWith('-??????') && grantee instanceof Construct) {
      Validations.of(grantee).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${this.policyArn}]`,
        reason:
          'The secret was imported by name without its random suffix; the six ? wildcards match that suffix only, so the grant still names exactly one secret',
      });
    }
    if (this.encryptionKey) {
      grantee.grantPrincipal.addToPrincipalPolicy(
        new PolicyStatement({
          actions: ['kms:Decrypt'],
          resources: [this.encryptionKey.keyArn],
          conditions: {
            StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(this).region}.amazonaws.com` },
          },
        }),
      );
    }
  }
}
