-- Luxembourg's 100 communes and their cantons. Information sessions are held in a commune at its
-- request, and every commune an organiser or a registrant names is checked against this list, so
-- it must hold the official names exactly (French spelling, accents and hyphens as in the law).
--
-- Reference date: 1 September 2023, when the last mergers took effect, and still the current list
-- in 2024/2025 (no later merger in force). Mergers applied:
--   2018-01-01  Hobscheid + Septfontaines        -> Habscht
--               Boevange-sur-Attert + Tuntange   -> Helperknapp
--               Rosport + Mompach                -> Rosport-Mompach
--   2023-09-01  Grosbous + Wahl                  -> Groussbus-Wal      (loi du 3 mars 2023)
--               Bous + Waldbredimus              -> Bous-Waldbredimus  (loi du 3 mars 2023)
-- Older mergers are already in the names (2012: Clervaux, Esch-sur-Sûre, Käerjeng, Parc Hosingen,
-- Schengen, Vallée de l'Ernz). "Capellen" is a canton, not a commune (the village is in Mamer);
-- the commune "Redange" has its seat in Redange-sur-Attert. A future merger is a new migration
-- that inserts the new name; old names stay, since past events refer to them.

INSERT INTO communes (name, canton) VALUES
    -- canton de Capellen (9)
    ('Dippach', 'Capellen'),
    ('Garnich', 'Capellen'),
    ('Habscht', 'Capellen'),
    ('Käerjeng', 'Capellen'),
    ('Kehlen', 'Capellen'),
    ('Koerich', 'Capellen'),
    ('Kopstal', 'Capellen'),
    ('Mamer', 'Capellen'),
    ('Steinfort', 'Capellen'),
    -- canton de Clervaux (5)
    ('Clervaux', 'Clervaux'),
    ('Parc Hosingen', 'Clervaux'),
    ('Troisvierges', 'Clervaux'),
    ('Weiswampach', 'Clervaux'),
    ('Wincrange', 'Clervaux'),
    -- canton de Diekirch (10)
    ('Bettendorf', 'Diekirch'),
    ('Bourscheid', 'Diekirch'),
    ('Diekirch', 'Diekirch'),
    ('Erpeldange-sur-Sûre', 'Diekirch'),
    ('Ettelbruck', 'Diekirch'),
    ('Feulen', 'Diekirch'),
    ('Mertzig', 'Diekirch'),
    ('Reisdorf', 'Diekirch'),
    ('Schieren', 'Diekirch'),
    ('Vallée de l''Ernz', 'Diekirch'),
    -- canton d'Echternach (7)
    ('Beaufort', 'Echternach'),
    ('Bech', 'Echternach'),
    ('Berdorf', 'Echternach'),
    ('Consdorf', 'Echternach'),
    ('Echternach', 'Echternach'),
    ('Rosport-Mompach', 'Echternach'),
    ('Waldbillig', 'Echternach'),
    -- canton d'Esch-sur-Alzette (14)
    ('Bettembourg', 'Esch-sur-Alzette'),
    ('Differdange', 'Esch-sur-Alzette'),
    ('Dudelange', 'Esch-sur-Alzette'),
    ('Esch-sur-Alzette', 'Esch-sur-Alzette'),
    ('Frisange', 'Esch-sur-Alzette'),
    ('Kayl', 'Esch-sur-Alzette'),
    ('Leudelange', 'Esch-sur-Alzette'),
    ('Mondercange', 'Esch-sur-Alzette'),
    ('Pétange', 'Esch-sur-Alzette'),
    ('Reckange-sur-Mess', 'Esch-sur-Alzette'),
    ('Roeser', 'Esch-sur-Alzette'),
    ('Rumelange', 'Esch-sur-Alzette'),
    ('Sanem', 'Esch-sur-Alzette'),
    ('Schifflange', 'Esch-sur-Alzette'),
    -- canton de Grevenmacher (8)
    ('Betzdorf', 'Grevenmacher'),
    ('Biwer', 'Grevenmacher'),
    ('Flaxweiler', 'Grevenmacher'),
    ('Grevenmacher', 'Grevenmacher'),
    ('Junglinster', 'Grevenmacher'),
    ('Manternach', 'Grevenmacher'),
    ('Mertert', 'Grevenmacher'),
    ('Wormeldange', 'Grevenmacher'),
    -- canton de Luxembourg (11)
    ('Bertrange', 'Luxembourg'),
    ('Contern', 'Luxembourg'),
    ('Hesperange', 'Luxembourg'),
    ('Luxembourg', 'Luxembourg'),
    ('Niederanven', 'Luxembourg'),
    ('Sandweiler', 'Luxembourg'),
    ('Schuttrange', 'Luxembourg'),
    ('Steinsel', 'Luxembourg'),
    ('Strassen', 'Luxembourg'),
    ('Walferdange', 'Luxembourg'),
    ('Weiler-la-Tour', 'Luxembourg'),
    -- canton de Mersch (10)
    ('Bissen', 'Mersch'),
    ('Colmar-Berg', 'Mersch'),
    ('Fischbach', 'Mersch'),
    ('Heffingen', 'Mersch'),
    ('Helperknapp', 'Mersch'),
    ('Larochette', 'Mersch'),
    ('Lintgen', 'Mersch'),
    ('Lorentzweiler', 'Mersch'),
    ('Mersch', 'Mersch'),
    ('Nommern', 'Mersch'),
    -- canton de Redange (9)
    ('Beckerich', 'Redange'),
    ('Ell', 'Redange'),
    ('Groussbus-Wal', 'Redange'),
    ('Préizerdaul', 'Redange'),
    ('Rambrouch', 'Redange'),
    ('Redange', 'Redange'),
    ('Saeul', 'Redange'),
    ('Useldange', 'Redange'),
    ('Vichten', 'Redange'),
    -- canton de Remich (7)
    ('Bous-Waldbredimus', 'Remich'),
    ('Dalheim', 'Remich'),
    ('Lenningen', 'Remich'),
    ('Mondorf-les-Bains', 'Remich'),
    ('Remich', 'Remich'),
    ('Schengen', 'Remich'),
    ('Stadtbredimus', 'Remich'),
    -- canton de Vianden (3)
    ('Putscheid', 'Vianden'),
    ('Tandel', 'Vianden'),
    ('Vianden', 'Vianden'),
    -- canton de Wiltz (7)
    ('Boulaide', 'Wiltz'),
    ('Esch-sur-Sûre', 'Wiltz'),
    ('Goesdorf', 'Wiltz'),
    ('Kiischpelt', 'Wiltz'),
    ('Lac de la Haute-Sûre', 'Wiltz'),
    ('Wiltz', 'Wiltz'),
    ('Winseler', 'Wiltz')
ON CONFLICT DO NOTHING;
