import { DescribeTaskDefinitionCommand, RegisterTaskDefinitionCommand, type RegisterTaskDefinitionCommandInput } from '@aws-sdk/client-ecs';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../common/failures';
import { imageRefusal } from '../../common/images';
import { mutatingAwsCall } from '../aws/dry-run';
import { awsCall } from '../aws/errors';
import { clientsFor, type ActivityDeps } from '../deps';
import { invalid } from './services';
import type { RevisionInput, RevisionResult } from './types';

/** The task definition revision a deploy rolls out, checked against the service's image repositories. */
export function createRevisionActivities(deps: ActivityDeps) {
  return {
    /**
     * The revision to deploy: the given task definition (checked to exist), or a new revision of the
     * stable one with one container's image replaced. An image that is already the stable one returns
     * the stable ARN unchanged, and the workflow refuses the deploy.
     */
    async resolveDeployRevision(input: RevisionInput): Promise<RevisionResult> {
      // The service's image repositories, checked a last time where the revision is made (the starters
      // and preflight checked the image already); unset in the config: image deploys are refused.
      const allowed = deps.config.services.find((s) => s.cluster === input.cluster && s.name === input.service)?.images;
      const svc = `${input.cluster}/${input.service}`;
      if (input.taskDefinition) {
        const out = await awsCall('ecs:DescribeTaskDefinition', () =>
          clientsFor(deps, input.cluster).ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: input.taskDefinition })),
        );
        // A given revision runs every one of its containers' images: with a list, each must be on it.
        if (allowed) {
          for (const c of out.taskDefinition?.containerDefinitions ?? []) {
            const why = imageRefusal(svc, c.image ?? '', allowed);
            if (why) throw invalid(`task definition ${input.taskDefinition}, container ${c.name ?? '?'}: ${why}`);
          }
        }
        return { taskDefinitionArn: out.taskDefinition?.taskDefinitionArn ?? input.taskDefinition, registered: false, dryRunCalls: [] };
      }
      if (!input.image) throw invalid('set exactly one of image or taskDefinition');
      const refused = imageRefusal(svc, input.image, allowed);
      if (refused) throw invalid(refused);
      const out = await awsCall('ecs:DescribeTaskDefinition', () =>
        clientsFor(deps, input.cluster).ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: input.currentTaskDefinition, include: ['TAGS'] })),
      );
      const td = out.taskDefinition;
      if (!td?.family || !td.containerDefinitions) throw invalid(`task definition ${input.currentTaskDefinition} has no containers`);
      const containers = td.containerDefinitions;
      const target = input.container ? containers.find((c) => c.name === input.container) : containers.length === 1 ? containers[0] : undefined;
      if (!target) {
        throw invalid(
          input.container
            ? `task definition ${td.family} has no container "${input.container}" (has ${containers.map((c) => c.name).join(', ')})`
            : `task definition ${td.family} has ${containers.length} containers; set services[].canary.container to name the one to replace`,
        );
      }
      if (target.image === input.image) {
        return { taskDefinitionArn: td.taskDefinitionArn ?? input.currentTaskDefinition, registered: false, dryRunCalls: [] };
      }
      const params: RegisterTaskDefinitionCommandInput = {
        family: td.family,
        taskRoleArn: td.taskRoleArn,
        executionRoleArn: td.executionRoleArn,
        networkMode: td.networkMode,
        containerDefinitions: containers.map((c) => (c === target ? { ...c, image: input.image } : c)),
        volumes: td.volumes,
        placementConstraints: td.placementConstraints,
        requiresCompatibilities: td.requiresCompatibilities,
        cpu: td.cpu,
        memory: td.memory,
        pidMode: td.pidMode,
        ipcMode: td.ipcMode,
        proxyConfiguration: td.proxyConfiguration,
        inferenceAccelerators: td.inferenceAccelerators,
        ephemeralStorage: td.ephemeralStorage,
        runtimePlatform: td.runtimePlatform,
        ...(out.tags && out.tags.length > 0 ? { tags: out.tags } : {}),
      };
      const m = await mutatingAwsCall(
        input.dryRun,
        'ecs:RegisterTaskDefinition',
        { family: td.family, container: target.name, image: input.image, basedOn: td.taskDefinitionArn },
        () => clientsFor(deps, input.cluster).ecs.send(new RegisterTaskDefinitionCommand(params)),
      );
      if (m.dryRun) {
        return { taskDefinitionArn: `${td.family}:dry-run(${input.image})`, registered: true, dryRunCalls: [m.call] };
      }
      const arn = m.result.taskDefinition?.taskDefinitionArn;
      if (!arn) throw ApplicationFailure.retryable('ecs:RegisterTaskDefinition returned no ARN', FailureType.AwsUnavailable);
      return { taskDefinitionArn: arn, registered: true, dryRunCalls: [] };
    },
  };
}
