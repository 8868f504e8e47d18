//! City and ASN lookups in MaxMind-format databases.
//!
//! A database answers one address family (DB-IP's files: one for IPv4, one for IPv6) or both
//! (MaxMind's files, our ASN build); every database given for a kind is opened and the first
//! whose family fits answers. Records are read with our own types, not `maxminddb::geoip2`:
//! DB-IP stores coordinates as 32-bit floats, and the decoder is strictly typed.

use std::fmt;
use std::net::IpAddr;
use std::path::Path;

use maxminddb::{Mmap, Reader};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

use crate::DataError;

/// Where an address is: ECS `geo.*`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Geo {
    /// ISO 3166-1 alpha-2, `KR`.
    pub country_iso_code: Option<String>,
    /// English country name.
    pub country_name: Option<String>,
    /// English city name.
    pub city_name: Option<String>,
    /// Latitude and longitude, indexed as `geo_point`.
    pub location: Option<Location>,
}

/// A `geo_point` as an object.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Location {
    /// Degrees north.
    pub lat: f64,
    /// Degrees east.
    pub lon: f64,
}

/// The autonomous system an address is announced from: ECS `as.*`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Asn {
    /// The AS number.
    pub number: u32,
    /// `{name}` of the organisation, when the database has it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization: Option<Organization>,
}

/// ECS `as.organization`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Organization {
    /// The organisation's name.
    pub name: String,
}

/// City and ASN databases, memory-mapped.
#[derive(Default)]
pub struct GeoIp {
    city: Vec<Database>,
    asn: Vec<Database>,
}

impl fmt::Debug for GeoIp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = |dbs: &[Database]| dbs.iter().map(|d| d.path.clone()).collect::<Vec<_>>();
        f.debug_struct("GeoIp").field("city", &names(&self.city)).field("asn", &names(&self.asn)).finish()
    }
}

struct Database {
    path: String,
    reader: Reader<Mmap>,
    ipv6: bool,
}

impl Database {
    fn open(path: &Path) -> Result<Self, DataError> {
        let error = |source| DataError::Database { path: path.display().to_string(), source };
        // SAFETY: `open_mmap` is unsafe because the file must not change while it is mapped.
        // The databases are read-only data: in Lambda they live in a layer under /opt, which is
        // read-only; the setup script writes them once, before anything opens them. A database is
        // replaced by deploying a new layer version (a new container), never in place.
        #[allow(unsafe_code)]
        let reader = unsafe { Reader::open_mmap(path) }.map_err(error)?;
        let ipv6 = reader.metadata().ip_version == 6;
        Ok(Self { path: path.display().to_string(), reader, ipv6 })
    }

    fn answers(&self, ip: IpAddr) -> bool {
        self.ipv6 || ip.is_ipv4()
    }

    fn lookup<'a, T: Deserialize<'a>>(&'a self, ip: IpAddr) -> Option<T> {
        match self.reader.lookup(ip).and_then(|found| found.decode::<T>()) {
            Ok(record) => record,
            Err(e) => {
                tracing::debug!(database = %self.path, error = %e, "lookup failed");
                None
            }
        }
    }
}

impl GeoIp {
    /// Opens the city and ASN databases.
    ///
    /// # Errors
    /// The first file that cannot be opened or is not a MaxMind database.
    pub fn open<P: AsRef<Path>>(city: &[P], asn: &[P]) -> Result<Self, DataError> {
        let open = |paths: &[P]| paths.iter().map(|p| Database::open(p.as_ref())).collect::<Result<Vec<_>, _>>();
        Ok(Self { city: open(city)?, asn: open(asn)? })
    }

    /// Adds a city database.
    ///
    /// # Errors
    /// The file cannot be opened or is not a MaxMind database.
    pub fn add_city(&mut self, path: &Path) -> Result<(), DataError> {
        self.city.push(Database::open(path)?);
        Ok(())
    }

    /// Adds an ASN database.
    ///
    /// # Errors
    /// The file cannot be opened or is not a MaxMind database.
    pub fn add_asn(&mut self, path: &Path) -> Result<(), DataError> {
        self.asn.push(Database::open(path)?);
        Ok(())
    }

    /// Whether any database is open.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.city.is_empty() && self.asn.is_empty()
    }

    /// The city record of `ip`, if a database knows it.
    #[must_use]
    pub fn city(&self, ip: IpAddr) -> Option<Geo> {
        let ip = canonical(ip);
        let record: CityRecord = self.city.iter().filter(|d| d.answers(ip)).find_map(|d| d.lookup(ip))?;
        let geo = record.into_geo();
        (geo.country_iso_code.is_some() || geo.location.is_some()).then_some(geo)
    }

    /// The autonomous system of `ip`, if a database knows it.
    #[must_use]
    pub fn asn(&self, ip: IpAddr) -> Option<Asn> {
        let ip = canonical(ip);
        let record: maxminddb::geoip2::Asn<'_> =
            self.asn.iter().filter(|d| d.answers(ip)).find_map(|d| d.lookup(ip))?;
        Some(Asn {
            number: record.autonomous_system_number?,
            organization: record.autonomous_system_organization.map(|name| Organization { name: name.to_owned() }),
        })
    }
}

/// An IPv4-mapped IPv6 address is looked up as the IPv4 address it is.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// Four decimals (about 11 m): a 32-bit float's digits beyond that are noise, and fixed digits
/// keep the documents (and the golden files) stable.
fn round(degrees: f64) -> f64 {
    (degrees * 10_000.0).round() / 10_000.0
}

fn english(names: Option<Names>) -> Option<String> {
    names.and_then(|n| n.en)
}

/// A city record in either layout: MaxMind's (`country.iso_code`, `country.names.en`,
/// `city.names.en`, `location.latitude`) or the flat one of the `@ip-location-db` DB-IP files
/// (`country_code`, `city`, `latitude`, `longitude`; no country name).
#[derive(Default, Deserialize)]
#[serde(default)]
struct CityRecord {
    city: Option<CityField>,
    country: Option<CountryRecord>,
    location: Option<LocationRecord>,
    country_code: Option<String>,
    latitude: Option<Coordinate>,
    longitude: Option<Coordinate>,
}

impl CityRecord {
    fn into_geo(self) -> Geo {
        let (nested_code, country_name) = self.country.map_or((None, None), |c| (c.iso_code, english(c.names)));
        let city_name = match self.city {
            Some(CityField::Name(name)) => Some(name),
            Some(CityField::Named(named)) => english(named.names),
            None => None,
        };
        let (lat, lon) = match self.location {
            Some(l) => (l.latitude, l.longitude),
            None => (self.latitude, self.longitude),
        };
        let location = match (lat, lon) {
            (Some(Coordinate(lat)), Some(Coordinate(lon))) => Some(Location { lat: round(lat), lon: round(lon) }),
            _ => None,
        };
        let non_empty = |s: Option<String>| s.filter(|s| !s.is_empty());
        Geo {
            country_iso_code: non_empty(nested_code.or(self.country_code)),
            country_name: non_empty(country_name),
            city_name: non_empty(city_name),
            location,
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum CityField {
    Name(String),
    Named(Named),
}

#[derive(Deserialize)]
struct Named {
    #[serde(default)]
    names: Option<Names>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct CountryRecord {
    iso_code: Option<String>,
    names: Option<Names>,
}

#[derive(Deserialize)]
struct Names {
    #[serde(default)]
    en: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct LocationRecord {
    latitude: Option<Coordinate>,
    longitude: Option<Coordinate>,
}

/// A coordinate stored as a 32- or 64-bit float.
struct Coordinate(f64);

impl<'de> Deserialize<'de> for Coordinate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Float;
        impl Visitor<'_> for Float {
            type Value = Coordinate;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a float")
            }
            fn visit_f32<E: de::Error>(self, v: f32) -> Result<Coordinate, E> {
                Ok(Coordinate(f64::from(v)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Coordinate, E> {
                Ok(Coordinate(v))
            }
        }
        deserializer.deserialize_any(Float)
    }
}
