import { createHash } from 'node:crypto';
import { referenceOnDemandPrice, round } from './price-book';

/**
 * The AmazonEC2 products the emulator's Price List API knows: for each region and instance type, the
 * variants a query must tell apart with its filters, each priced differently as on AWS (Windows more,
 * Dedicated tenancy more, SQL Web pre-installed more, a capacity reservation's allocated hours at 0),
 * in the product format of "Reading the service price list file for an AWS service"
 * (https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/reading-service-price-list-file-for-services.html):
 * `product` (sku, productFamily, attributes), `serviceCode`, `terms.OnDemand` and `terms.Reserved`
 * (term code → priceDimensions with `unit` and `pricePerUnit.USD` as a decimal string), `version`,
 * `publicationDate`.
 */

const LOCATIONS: Record<string, string> = {
  'us-east-1': 'US East (N. Virginia)',
  'us-east-2': 'US East (Ohio)',
  'us-west-2': 'US West (Oregon)',
  'eu-west-1': 'EU (Ireland)',
  'eu-central-1': 'EU (Frankfurt)',
  'ap-south-1': 'Asia Pacific (Mumbai)',
  'ap-northeast-1': 'Asia Pacific (Tokyo)',
};
export const KNOWN_REGIONS = Object.keys(LOCATIONS);
/** Types listed when a query does not name one. */
export const KNOWN_TYPES = ['t3.micro', 't3.large', 'm5.large', 'm5.xlarge', 'm5a.large', 'm6i.large', 'c5.large', 'c6g.large', 'r5.large'];

interface Variant {
  operatingSystem: string;
  tenancy: string;
  preInstalledSw: string;
  capacitystatus: string;
  licenseModel: string;
  factor: number;
  extra: number;
}

const VARIANTS: Variant[] = [
  { operatingSystem: 'Linux', tenancy: 'Shared', preInstalledSw: 'NA', capacitystatus: 'Used', licenseModel: 'No License required', factor: 1, extra: 0 },
  { operatingSystem: 'Linux', tenancy: 'Shared', preInstalledSw: 'NA', capacitystatus: 'UnusedCapacityReservation', licenseModel: 'No License required', factor: 1, extra: 0 },
  { operatingSystem: 'Linux', tenancy: 'Shared', preInstalledSw: 'NA', capacitystatus: 'AllocatedCapacityReservation', licenseModel: 'No License required', factor: 0, extra: 0 },
  { operatingSystem: 'Linux', tenancy: 'Dedicated', preInstalledSw: 'NA', capacitystatus: 'Used', licenseModel: 'No License required', factor: 1.1, extra: 0 },
  { operatingSystem: 'Linux', tenancy: 'Shared', preInstalledSw: 'SQL Web', capacitystatus: 'Used', licenseModel: 'No License required', factor: 1, extra: 0.02 },
  { operatingSystem: 'Windows', tenancy: 'Shared', preInstalledSw: 'NA', capacitystatus: 'Used', licenseModel: 'License included', factor: 1, extra: 0.092 },
];

export interface Product {
  attributes: Record<string, string>;
  serviceCode: string;
  /** The entry as GetProducts sends it: one JSON document per product. */
  json: string;
}

const code = (seed: string, n: number) => createHash('sha1').update(seed).digest('hex').toUpperCase().replace(/[^A-Z0-9]/g, '').slice(0, n);

/** The products of one instance type in one region; `linuxPrice` is the Linux, shared, used price (USD an hour). */
export function productsOf(regionCode: string, instanceType: string, linuxPrice: number | undefined, publishedAt: string): Product[] {
  const base = linuxPrice ?? referenceOnDemandPrice(instanceType);
  if (base === undefined) return [];
  return VARIANTS.map((v) => {
    const attributes: Record<string, string> = {
      servicecode: 'AmazonEC2',
      servicename: 'Amazon Elastic Compute Cloud',
      instanceType,
      regionCode,
      location: LOCATIONS[regionCode] ?? regionCode,
      locationType: 'AWS Region',
      operatingSystem: v.operatingSystem,
      tenancy: v.tenancy,
      preInstalledSw: v.preInstalledSw,
      capacitystatus: v.capacitystatus,
      licenseModel: v.licenseModel,
      marketoption: 'OnDemand',
      operation: v.operatingSystem === 'Windows' ? 'RunInstances:0002' : v.preInstalledSw === 'NA' ? 'RunInstances' : 'RunInstances:0200',
      usagetype: `BoxUsage:${instanceType}`,
    };
    const sku = code(JSON.stringify(attributes), 16);
    const usd = round(base * v.factor + (v.factor > 0 ? v.extra : 0));
    const onDemand = 'JRTCKXETXF';
    const reserved = '4NA7Y494T4';
    const dim = (term: string, price: number, unit: string, description: string) => ({
      [`${sku}.${term}.6YS6EN2CT7`]: { unit, endRange: 'Inf', description, appliesTo: [], rateCode: `${sku}.${term}.6YS6EN2CT7`, beginRange: '0', pricePerUnit: { USD: price.toFixed(10) } },
    });
    const doc = {
      product: { productFamily: 'Compute Instance', attributes, sku },
      serviceCode: 'AmazonEC2',
      terms: {
        OnDemand: {
          [`${sku}.${onDemand}`]: { priceDimensions: dim(onDemand, usd, 'Hrs', `$${usd} per On Demand ${v.operatingSystem} ${instanceType} Instance Hour`), sku, effectiveDate: publishedAt, offerTermCode: onDemand, termAttributes: {} },
        },
        // A one-year reservation: cheaper by the hour. A reader must take OnDemand, not the first term it sees.
        Reserved: {
          [`${sku}.${reserved}`]: {
            priceDimensions: dim(reserved, round(usd * 0.6), 'Hrs', `${v.operatingSystem} (${instanceType}), 1 yr No Upfront`),
            sku,
            effectiveDate: publishedAt,
            offerTermCode: reserved,
            termAttributes: { LeaseContractLength: '1yr', OfferingClass: 'standard', PurchaseOption: 'No Upfront' },
          },
        },
      },
      version: publishedAt.replace(/\D/g, '').slice(0, 14),
      publicationDate: publishedAt,
    };
    return { attributes, serviceCode: 'AmazonEC2', json: JSON.stringify(doc) };
  });
}
