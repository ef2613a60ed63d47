"""The word lists the demo-data generator draws from: names, places, streets, notes.

Plain data, kept apart from the generator's logic. Changing an entry changes the generated
contacts (tests pin a digest of them), so the example plans may need updating too.
"""
from __future__ import annotations


MALE = ("James John Robert Michael William David Richard Joseph Thomas Christopher Daniel "
         "Matthew Anthony Mark Steven Paul Andrew Joshua Kevin Brian George Edward Timothy "
         "Jason Ryan Jacob Nicholas Eric Jonathan Samuel Gregory Patrick Henry Peter Carlos "
         "Luis Miguel Wei Hiroshi Omar Darnell Malik Ethan Noah Liam Caleb Isaac").split()
FEMALE = ("Mary Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Nancy "
           "Lisa Margaret Betty Sandra Ashley Dorothy Kimberly Emily Donna Michelle Carol "
           "Amanda Melissa Deborah Stephanie Rebecca Laura Sharon Cynthia Kathleen Amy Angela "
           "Anna Katherine Maria Sofia Mei Aiko Fatima Keisha Aaliyah Olivia Emma Grace "
           "Chloe Hannah Abigail").split()
LAST = ("Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez "
         "Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson "
         "White Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright "
         "Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell "
         "Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins "
         "Reyes Stewart Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper "
         "Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward Richardson Watson Brooks Chavez "
         "Wood James Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo Sanders Patel "
         "Myers Long Ross Foster Jimenez O'Brien O'Connor McAllister Núñez Peña Søndergaard "
         "Washington-Baker Okafor Tanaka Schmidt").split()
NICKNAMES = {"William": "Bill", "Robert": "Bob", "Richard": "Rick", "James": "Jim",
              "Michael": "Mike", "Joseph": "Joe", "Thomas": "Tom", "Christopher": "Chris",
              "Daniel": "Dan", "Anthony": "Tony", "Steven": "Steve", "Edward": "Ed",
              "Timothy": "Tim", "Elizabeth": "Liz", "Patricia": "Pat", "Margaret": "Peggy",
              "Katherine": "Kate", "Jennifer": "Jen", "Susan": "Sue", "Deborah": "Debbie",
              "Kimberly": "Kim", "Rebecca": "Becky", "Abigail": "Abby", "Samuel": "Sam"}
STREETS = ("Maple Oak Pine Cedar Elm Washington Lincoln Jefferson Park Lake Hill Main Church "
            "Highland Forest River Sunset Meadow Spring Chestnut Walnut Willow Ridge Franklin "
            "Madison Jackson Center Union Mill Prospect Pleasant Grove Summit Cherry Dogwood "
            "Magnolia Hickory Birch Adams Harbor Orchard").split()
SUFFIXES = "St Ave Rd Dr Ln Ct Blvd Way Pl Ter Cir Pkwy".split()
PLACES = ("Riverside Lakeside Hillcrest Westside Northgate Oakwood Fairview Greenfield "
           "Pinecrest Meadowbrook Brookside Elmwood Ashford Harborview Grace Cornerstone").split()
# city, state, first three ZIP digits, area code; New England and New Jersey give leading zeros.
CITIES = [tuple(entry.strip().split(",")) for entry in (
    "Boston,MA,021,617; Worcester,MA,016,508; Springfield,MA,011,413; Providence,RI,029,401; "
    "Hartford,CT,061,860; New Haven,CT,065,203; Portland,ME,041,207; Burlington,VT,054,802; "
    "Manchester,NH,031,603; Newark,NJ,071,973; Princeton,NJ,085,609; New York,NY,100,212; "
    "Buffalo,NY,142,716; Philadelphia,PA,191,215; Pittsburgh,PA,152,412; "
    "Baltimore,MD,212,410; Richmond,VA,232,804; Raleigh,NC,276,919; Charlotte,NC,282,704; "
    "Atlanta,GA,303,404; Nashville,TN,372,615; Columbus,OH,432,614; Cleveland,OH,441,216; "
    "Indianapolis,IN,462,317; Chicago,IL,606,312; Milwaukee,WI,532,414; "
    "Minneapolis,MN,554,612; Des Moines,IA,503,515; St. Louis,MO,631,314; "
    "Kansas City,MO,641,816; Omaha,NE,681,402; Dallas,TX,752,214; Austin,TX,787,512; "
    "Houston,TX,770,713; Denver,CO,802,303; Boise,ID,837,208; Salt Lake City,UT,841,801; "
    "Albuquerque,NM,871,505; Seattle,WA,981,206; Portland,OR,972,503; "
    "Sacramento,CA,958,916; San Diego,CA,921,619; Anchorage,AK,995,907; Honolulu,HI,968,808"
).split(";")]
SUNBELT = [("Naples", "FL", "341", "239"), ("Sarasota", "FL", "342", "941"),
            ("Scottsdale", "AZ", "852", "480"), ("Palm Springs", "CA", "922", "760"),
            ("Tucson", "AZ", "857", "520"), ("Orlando", "FL", "328", "407")]
MAIL_DOMAINS = ("example.com", "example.net", "example.org", "mail.example.com",
                 "inbox.example.net", "post.example.org")
EMPLOYERS = ("northwind", "contoso", "fabrikam", "tailspin", "adventureworks", "litware",
              "wingtip", "proseware")
STAFF = ("Alex Rivera", "Jordan Lee", "Sam Patel", "Casey Morgan", "Data Import",
          "Portal Integration")
TAGS = ("Major Donor", "Monthly Donor", "Volunteer", "Board Member", "Event Attendee",
         "Prayer Partner", "Lapsed")
VOLUNTEER = ("Events", "Mentoring", "Food Pantry", "Office Help", "Fundraising",
              "Board Service")
NEWSLETTER = ("Email", "Print", "Email and Print", "Opted Out")
NOTES = ("Met at the spring gala.", "Prefers phone calls to email.",
          "Gives every December.", "Referred by a board member.", "Attends the summer picnic.")
ORG_KINDS = (("{place} Community Church", "Welcomes our food drive every year."),
              ("{last} Family Foundation", "Grant partner; reports due each June."),
              ("{last} Hardware Co.", "Matches employee gifts."),
              ("{place} Rotary Club", "Hosts the autumn fundraiser."),
              ("{place} Dental Group", "Corporate sponsor."),
              ("{last} & {last2} LLP", None), ("{place} Elementary PTA", None))
GIFTS = (10, 25, 50, 100, 150, 250, 500, 1000, 2500, 5000)
