#!/usr/bin/env node
import { App, Tags, Validations } from 'aws-cdk-lib';
import cdkNag from 'cdk-nag';
import { parseDeployConfig, readContext } from './config.ts';
import { LeadImportStack, SERVICE_NAME } from './stack.ts';

/**
 * The CDK app. Environment-agnostic (no account/region, no lookups), so `npx cdk synth` runs offline;
 * parameters come from context: `npx cdk deploy -c webhookSecretName=… -c plan=enterprise`.
 * cdk-nag's AwsSolutions pack runs on every synth: an unsuppressed error fails it.
 */
const app = new App();
const config = parseDeployConfig(readContext((key) => app.node.tryGetContext(key)));
const stackName = (app.node.tryGetContext('stackName') as string | undefined) ?? 'B24LeadImport';

new LeadImportStack(app, stackName, {
  config,
  description: 'b24-lead-import: CSV lead updates from S3 into Bitrix24 (Lambda + Step Functions)',
});
// Every taggable resource carries the project's name (cost allocation, finding what to clean up).
Tags.of(app).add('project', SERVICE_NAME);
Validations.of(app).addPlugins(new cdkNag.AwsSolutionsChecks(app, { verbose: true }));
