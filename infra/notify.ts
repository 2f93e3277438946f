import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { EVENT_DETAIL_TYPE, EVENT_SOURCE } from '../lambda/report/notice.ts';

export interface NotifyProps {
  /** Who gets the message (the address confirms the subscription once). */
  email: string;
}

/**
 * The run's end, mailed: an SNS topic (encrypted with its own key, TLS only) fed by a rule on the default bus
 * matching finalize's event (source + detail-type), whose input transformer forwards `detail.message` as the
 * mail's text; and the e-mail subscription.
 */
export class Notify extends Construct {
  readonly topic: sns.Topic;
  readonly rule: events.Rule;
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: NotifyProps) {
    super(scope, id);
    // A customer managed key: EventBridge cannot publish to a topic under the AWS managed SNS key.
    this.key = new kms.Key(this, 'Key', { enableKeyRotation: true, description: 'b24-lead-import: run notices topic' });
    this.key.grant(new iam.ServicePrincipal('events.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'b24-lead-import runs',
      masterKey: this.key,
      enforceSSL: true,
    });
    this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));
    this.rule = new events.Rule(this, 'RunFinished', {
      description: 'b24-lead-import: a run ended, mail its message',
      eventPattern: { source: [EVENT_SOURCE], detailType: [EVENT_DETAIL_TYPE] },
      // An input transformer: the mail is the message text alone, not the event's JSON.
      targets: [
        new targets.SnsTopic(this.topic, { message: events.RuleTargetInput.fromText(events.EventField.fromPath('$.detail.message')) }),
      ],
    });
  }
}
