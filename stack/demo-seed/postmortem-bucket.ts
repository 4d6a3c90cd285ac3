import { CreateBucketCommand, HeadBucketCommand, PutBucketVersioningCommand, type BucketLocationConstraint } from '@aws-sdk/client-s3';
import type { AwsClients } from '../../activities/aws/clients';
import { DEMO } from './demo';

/**
 * The bucket closed postmortems go to, versioned so an overwritten document can be recovered. us-east-1
 * takes no location constraint; every other region needs one (S3's CreateBucket rules).
 */
export async function ensurePostmortemBucket(aws: AwsClients, region: string): Promise<void> {
  const Bucket = DEMO.postmortemBucket;
  const exists = await aws.s3.send(new HeadBucketCommand({ Bucket })).then(
    () => true,
    () => false,
  );
  if (!exists) {
    await aws.s3.send(
      new CreateBucketCommand({ Bucket, ...(region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } }) }),
    );
  }
  await aws.s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }));
}
