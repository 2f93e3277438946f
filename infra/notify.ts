import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { Handler } from './handler.ts';

export interface NotifyProps {
  /** Who gets the message (the address confirms the subscription once). */
  email: string;
  /** The function that mails each run's message; default the scope's `finalize` handler (the stack's). */
  publisher?: lambda.Function;
}

/** The env var naming the topic on the publishing function (lambda/aws/env.ts FinalizeEnvSchema). */
export const NOTIFY_TOPIC_ENV = 'NOTIFY_TOPIC_ARN';

/**
 * The run's end, mailed: an SNS topic (encrypted with its own rotated key, TLS only) and the e-mail
 * subscription; finalize publishes the message text to it itself (lambda/aws/runMail.ts), so only the finalize
 * role may publish, and only finalize learns the topic (NOTIFY_TOPIC_ARN).
 *
 * No EventBridge rule feeds the topic: an input transformer with a string template delivers the text
 * JSON-quoted (quotes around it, `\n` as a literal backslash-n in the mail), and a rule without a target does
 * nothing. The run-end event stays on the default bus for anyone's own rules.
 */
export class Notify extends Construct {
  readonly topic: sns.Topic;
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: NotifyProps) {
    super(scope, id);
    const publisher = props.publisher ?? finalizeOf(scope);
    this.key = new kms.Key(this, 'Key', { enableKeyRotation: true, description: 'b24-lead-import: run notices topic' });
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'b24-lead-import runs',
      masterKey: this.key,
      enforceSSL: true,
    });
    this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));
    // sns:Publish on this topic and the key's use for it (an encrypted topic needs both), named exactly: CDK's
    // grantPublish asks for kms:GenerateDataKey*, a wildcard cdk-nag refuses and SNS does not need.
    publisher.addToRolePolicy(new iam.PolicyStatement({ sid: 'MailRunEnd', actions: ['sns:Publish'], resources: [this.topic.topicArn] }));
    this.key.grant(publisher, 'kms:Decrypt', 'kms:GenerateDataKey');
    publisher.addEnvironment(NOTIFY_TOPIC_ENV, this.topic.topicArn);
  }
}

/** The stack holds its finalize handler as `finalize` (infra/stack.ts creates it before Notify). */
function finalizeOf(scope: Construct): lambda.Function {
  const handler = (scope as { finalize?: Handler }).finalize;
  if (!handler?.fn) throw new Error('Notify: give it the publishing function, or create it in a scope holding `finalize`');
  return handler.fn;
}
